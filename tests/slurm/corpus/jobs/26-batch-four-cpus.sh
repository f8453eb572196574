#!/bin/bash
#SBATCH --partition=batch
#SBATCH --job-name=test
#SBATCH --ntasks=1
#SBATCH --time=4:00:00
#SBATCH --mem=10G
#SBATCH --cpus-per-task=4

echo "threads: ${SLURM_CPUS_PER_TASK:-1}"
env | grep '^SLURM' | sort
