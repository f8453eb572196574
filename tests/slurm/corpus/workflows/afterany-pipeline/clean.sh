#!/bin/bash
#SBATCH --job-name=clean
#SBATCH --time=00:05:00
#SBATCH --output=clean-%j.log

echo "cleaning"
exit 3
