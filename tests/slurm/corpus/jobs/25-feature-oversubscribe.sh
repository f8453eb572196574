#!/bin/bash
#SBATCH --job-name=test
#SBATCH --partition=batch
#SBATCH --constraint=hpcf2009
# #SBATCH --partition=high_mem
#SBATCH --qos=short+
#SBATCH --account=pi_strow
#SBATCH --mem-per-cpu=16000
#SBATCH --oversubscribe

# exclude list
#SBATCH --exclude=cnode[203,204,260,267]

echo "job $SLURM_JOB_ID ($SLURM_JOB_NAME) on $SLURM_JOB_NODELIST"
env | grep '^SLURM' | sort
