#!/bin/bash
#SBATCH --account=hpcalloc
#SBATCH --time=4:00:00
#SBATCH --ntasks-per-node=1
#SBATCH --mail-user=user@example.org
#SBATCH --mail-type=BEGIN,END,FAIL
#SBATCH --mem=246000    # RAM in MB

echo "host $(hostname)"
env | grep '^SLURM' | sort
