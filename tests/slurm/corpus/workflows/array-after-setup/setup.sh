#!/bin/bash
#SBATCH --job-name=setup
#SBATCH --ntasks=1
#SBATCH --time=00:10:00
#SBATCH --mem=2000
#SBATCH -o setup_%j.out

echo 12 > nmonths
