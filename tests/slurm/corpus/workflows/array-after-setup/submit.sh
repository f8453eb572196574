#!/bin/bash

jid1=$(sbatch setup.sh)

sbatch --dependency=afterok:${jid1##* } --array=1-12 monthly.sh
