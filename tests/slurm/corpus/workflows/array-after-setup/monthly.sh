#!/bin/bash
#SBATCH --job-name=monthly
#SBATCH --ntasks=1
#SBATCH --time=00:10:00
#SBATCH --mem=1000
#SBATCH -o monthly_%a.out

echo "month $SLURM_ARRAY_TASK_ID of $(cat nmonths)"
