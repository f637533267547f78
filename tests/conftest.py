import os

# small torch kernels ran 5-30x slower with 2 threads than with 1 on our 2-core machines
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
