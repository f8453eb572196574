#!/bin/sh
#SBATCH --partition=main
#SBATCH --time=23:59:59
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --job-name="allox-est"
#SBATCH --output=allox-est.out
#SBATCH --requeue
#SBATCH --exclusive

echo "job $SLURM_JOB_ID ($SLURM_JOB_NAME) on $SLURM_JOB_NODELIST"
env | grep '^SLURM' | sort
