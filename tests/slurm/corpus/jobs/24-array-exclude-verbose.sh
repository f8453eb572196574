#!/bin/bash
#SBATCH --job-name=nd7_depth
#SBATCH --output=slurm-%j-%a-out.txt
#SBATCH --time=24:00:00 # (HH:MM:SS), infinite
#SBATCH --partition=cpu_normal
#SBATCH --cpus-per-task=2
#SBATCH --mem-per-cpu=2G
#SBATCH --verbose
#SBATCH --nodes=1
#SBATCH --exclude=helena1,helena2,helena3,helena4,cc1l01,nox
#SBATCH --array=0-49

echo "task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT"
env | grep '^SLURM' | sort
