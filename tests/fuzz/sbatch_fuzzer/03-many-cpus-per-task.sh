#!/bin/bash
# same as -n
#SBATCH --ntasks 2

#SBATCH --mem-per-cpu=3800
#same as -t
#SBATCH --time 00:30:00

#same as -c
#SBATCH --cpus-per-task 96

echo "threads: ${SLURM_CPUS_PER_TASK:-1}"
env | grep '^SLURM' | sort
