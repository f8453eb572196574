#! /bin/bash
#
#SBATCH --mem=2G
#SBATCH -N 1
#SBATCH -n 1
#SBATCH -c 1
#SBATCH --time 24:00:00

echo "host $(hostname)"
env | grep '^SLURM' | sort
