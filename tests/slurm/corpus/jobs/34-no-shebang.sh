#SBATCH --nodes=1
#SBATCH --mem-4G
#SBATCH --time=2:00:00
#SBATCH --ntasks-per-node=4
#SBATCH --mail-user=user@example.org
#SBATCH --mail-type=ALL
#SBATCH --cpus-per-task=8             # match dataloader workers
#SBATCH --gpus-per-node=a100:1        # fill the node's GPUs
#SBATCH --mem=64G

echo "host $(hostname)"
env | grep '^SLURM' | sort
