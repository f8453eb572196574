#!/bin/bash
#SBATCH -A m3ÿÿÿ––––––––––––––––––––––––––
#SBACH --time=10:00:00
#SBATCH -C gpu
#SBATˆH -N 1

#SBATCH -N 2
#SBATCH --time=4888888888888888888:0 
#S#!/binTCH -J vt] ––––––––––––––––––––––––––––––––––––––––––––––––––––––––––––––––––––––––––––––––––
#SBATCH -q regular
#SBATCH -Ca hswellTCH -q regular
#SBATCH -Ca hswell
#SBATC n