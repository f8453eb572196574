#!/bin/bash
# A leader job and two jobs that start when it succeeds, each with an argument.
first=$(sbatch --parsable --job-name job_leader first.sh)
sbatch --job-name job_mult_5  --dependency=afterok:$first depend.sh 5
sbatch --job-name job_mult_10 --dependency=afterok:$first depend.sh 10
