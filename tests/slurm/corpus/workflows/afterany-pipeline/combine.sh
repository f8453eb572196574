#!/bin/bash
#SBATCH --job-name=combine
#SBATCH --time=00:05:00
#SBATCH --output=combine-%j.log

echo "combining after ${SLURM_JOB_DEPENDENCY:-a dependency}"
env | grep '^SLURM' | sort
