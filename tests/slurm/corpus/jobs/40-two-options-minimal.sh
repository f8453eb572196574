#!/bin/bash
#SBATCH --ntasks=1
#SBATCH --time=00:05:00

echo "$(date +%Y): start on $(uname -n)"
env | grep '^SLURM' | sort
