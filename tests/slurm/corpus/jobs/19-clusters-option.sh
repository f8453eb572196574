#!/bin/bash -l
#SBATCH --clusters=ub-hpc
#SBATCH --partition=general-compute
#SBATCH --qos=general-compute
#SBATCH --time=12:00:00
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=32
#SBATCH --mem=64G

echo "threads: ${SLURM_CPUS_PER_TASK:-1}"
env | grep '^SLURM' | sort
