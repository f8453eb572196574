#!/bin/bash
#SBATCH --job-name job_001                              # Specifies name for job allocation
#SBATCH --output job.%j.out 
#SBATCH --nodes 1                                       # Required number of nodes
#SBATCH --ntasks-per-node 8                             # Maximum processes per node
#SBATCH --time 00:05:00                                 # Sets a time limit
#SBATCH --nodelist node20                               # Requests a specific list of hosts
#SBATCH --exclusive                                     # Job allocation does not share node
#SBATCH --mail-type=END,FAIL                            # Mail events
#SBATCH --mail-user=user@example.org                    # Where to send mail

echo "job $SLURM_JOB_ID ($SLURM_JOB_NAME) on $SLURM_JOB_NODELIST"
env | grep '^SLURM' | sort
