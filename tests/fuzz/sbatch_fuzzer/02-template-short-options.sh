#!/bin/bash
#SBATCH -J scan01
#SBATCH -e scan01.msg
#SBATCH -o scan01.msg
#SBATCH -p batch
#SBATCH -N 1
#SBATCH --ntasks-per-node=1
#SBATCH --mem=1000

echo "job $SLURM_JOB_ID ($SLURM_JOB_NAME) on $SLURM_JOB_NODELIST"
env | grep '^SLURM' | sort
