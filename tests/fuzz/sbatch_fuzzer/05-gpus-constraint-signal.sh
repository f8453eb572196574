#!/bin/sh
#SBATCH --job-name=gpu
#SBATCH --partition=killable
#SBATCH --time=1440
#SBATCH --signal=USR1@120
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --mem=32000
#SBATCH --gpus=1
#SBATCH --cpus-per-task=8
#SBATCH --constraint="tesla_v100|quadro_rtx_8000|geforce_rtx_3090|a100|a5000|a6000"

echo "host $(hostname)"
env | grep '^SLURM' | sort
