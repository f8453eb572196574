#!/bin/bash
#SBATCH --job-name esr
#SBATCH --partition batch
#SBATCH --nice=100
#SBATCH --output log/esr.%A.%a.out # STDOUT
#SBATCH --error log/esr.%A.%a.log # STDERR

echo "job $SLURM_JOB_ID ($SLURM_JOB_NAME) on $SLURM_JOB_NODELIST"
env | grep '^SLURM' | sort
