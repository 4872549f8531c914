"""A stand-in training script for trying Mekong locally: prints the GPUs it was given and a few epochs."""
import os
import time

gpus = os.environ.get("CUDA_VISIBLE_DEVICES", "")
node = os.environ.get("MEKONG_NODE_NAME", "?")
print(f"job {os.environ.get('MEKONG_JOB_ID')} training on GPUs {gpus} of {node}", flush=True)
for epoch in range(5):
    time.sleep(1)
    print(f"epoch {epoch} loss {1.0 / (epoch + 2):.3f}", flush=True)
print("done", flush=True)
