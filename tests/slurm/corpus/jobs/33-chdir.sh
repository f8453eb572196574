#!/bin/bash
#SBATCH --nodes 1
#SBATCH --ntasks 1
#SBATCH --partition debug
#SBATCH --time=00:05:00
#SBATCH --chdir data
#SBATCH --account=<account_id>

echo "pwd $(pwd)"
env | grep '^SLURM' | sort
