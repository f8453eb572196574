#! /bin/bash

# first job - no dependencies
jid1=$(sbatch clean.sh)
jid1="${jid1##* }"

# second job - runs when the first has ended, however it ended
jid2=$(sbatch --dependency=afterany:$jid1 combine.sh)
echo "$jid2"
