#!/usr/bin/env python3
"""Writes a small synthetic trace in the Standard Workload Format (SWF v2.2) for `swell sim`.

No real trace ships with swell (the Parallel Workloads Archive's logs have their own terms), so
this generates one with the shapes such logs show: arrivals follow a day/night cycle (a Poisson
process whose rate peaks in working hours and is ten times lower at night, with occasional
bursts of one user's job array), widths are mostly small powers of two, run times are
log-normal (minutes to hours) and the requested time overestimates the run time. Seeded, so the
same command writes the same file:

    scripts/gen_swf.py --jobs 3000 --days 3 --seed 1 > bench/data/synthetic-3day.swf
"""
import argparse
import math
import random


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=3000)
    p.add_argument("--days", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    span = a.days * 86400
    # Rate over the day: low at night, high from 9:00 to 18:00.
    def weight(t):
        hour = (t % 86400) / 3600
        return 1.0 if 9 <= hour < 18 else 0.1
    # Thinning: draw candidate times uniformly, keep them with probability weight(t).
    submits = []
    while len(submits) < a.jobs:
        t = rng.uniform(0, span)
        if rng.random() < weight(t):
            if rng.random() < 0.01:  # a burst: one user's array of short jobs
                n = rng.randint(50, 200)
                run = rng.randint(60, 600)
                for _ in range(min(n, a.jobs - len(submits))):
                    submits.append((t, 1, max(1, int(rng.gauss(run, run / 5)))))
            else:
                cpus = rng.choice([1, 1, 1, 1, 2, 2, 4, 4, 8, 16, 32, 64])
                run = int(min(48 * 3600, max(10, rng.lognormvariate(math.log(1200), 1.2))))
                submits.append((t, cpus, run))
    submits.sort()
    print("; Version: 2.2")
    print("; Computer: synthetic (scripts/gen_swf.py --jobs %d --days %d --seed %d)" %
          (a.jobs, a.days, a.seed))
    print("; MaxJobs: %d" % len(submits))
    print("; UnixStartTime: 0")
    for i, (t, cpus, run) in enumerate(submits, 1):
        req_time = int(run * rng.uniform(1.0, 3.0)) + 60
        mem_kb = rng.choice([512, 1024, 2048]) * 1024  # per processor
        user = rng.randint(1, 40)
        print("%d %d -1 %d %d -1 -1 %d %d %d 1 %d 1 -1 1 -1 -1 -1" %
              (i, int(t), run, cpus, cpus, req_time, mem_kb, user))


if __name__ == "__main__":
    main()
