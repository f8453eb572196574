#!/bin/bash
#SBATCH --job-name=hello_array
#SBATCH --output=%x.o%A_%a
#SBATCH --time=00:20:00 
#SBATCH --ntasks=1
#SBATCH --partition=cpu_short
#SBATCH --array=1-10

echo "task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT"
env | grep '^SLURM' | sort
