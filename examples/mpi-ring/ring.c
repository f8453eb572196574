/* The MPI ring of Foster & Gannon, "Cloud Computing for Science and Engineering", ch. 7: the
 * ranks pass a token around a ring; each hop adds one to it and prints a line, then the token
 * goes around `rounds` more times to measure the average time per message.
 *
 *   mpicc -O2 -o ring ring.c
 *   mpirun -n 7 ./ring [rounds]          (swell: swell run --mpi --nodes 2 -n 7 ./ring)
 *
 * Output, in hop order (each rank writes its line when it holds the token; rank 0 gathers and
 * prints them, since mpirun forwards the ranks' stdout in no particular order):
 *   hop 1: rank 1 on node-a got token 1 from rank 0
 *   ...
 *   hop 7: rank 0 on node-a got token 7 from rank 6
 *   ring of 7 ranks: 70000 messages, 1.234 us per message
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1, len = 0;
  char host[MPI_MAX_PROCESSOR_NAME];
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Get_processor_name(host, &len);
  long rounds = argc > 1 ? atol(argv[1]) : 10000;
  if (rounds < 1 || size < 2) {
    if (rank == 0) fprintf(stderr, "ring: needs at least 2 ranks and 1 round\n");
    MPI_Finalize();
    return 2;
  }
  int next = (rank + 1) % size, prev = (rank + size - 1) % size;
  int token = 0;
  enum { kLine = MPI_MAX_PROCESSOR_NAME + 96 };
  char line[kLine];
  /* One trip with a line per hop. */
  if (rank == 0) {
    token = 1;
    MPI_Send(&token, 1, MPI_INT, next, 0, MPI_COMM_WORLD);
    MPI_Recv(&token, 1, MPI_INT, prev, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  } else {
    MPI_Recv(&token, 1, MPI_INT, prev, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  }
  snprintf(line, sizeof line, "hop %d: rank %d on %s got token %d from rank %d", token, rank,
           host, token, prev);
  if (rank != 0) {
    token++;
    MPI_Send(&token, 1, MPI_INT, next, 0, MPI_COMM_WORLD);
  }
  char* lines = rank == 0 ? malloc((size_t)size * kLine) : NULL;
  MPI_Gather(line, kLine, MPI_CHAR, lines, kLine, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    for (int r = 1; r <= size; r++) printf("%s\n", lines + (size_t)(r % size) * kLine);
    fflush(stdout);
    free(lines);
  }
  /* The timed trips. */
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  for (long r = 0; r < rounds; r++) {
    if (rank == 0) {
      MPI_Send(&token, 1, MPI_INT, next, 1, MPI_COMM_WORLD);
      MPI_Recv(&token, 1, MPI_INT, prev, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(&token, 1, MPI_INT, prev, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(&token, 1, MPI_INT, next, 1, MPI_COMM_WORLD);
    }
  }
  double secs = MPI_Wtime() - t0;
  if (rank == 0)
    printf("ring of %d ranks: %ld messages, %.3f us per message\n", size, rounds * size,
           secs * 1e6 / (double)(rounds * size));
  MPI_Finalize();
  return 0;
}
