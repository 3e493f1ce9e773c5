"""The project's container images, built offline from what this machine has: `lbbench image build`.

Packaging, not topology: the docker provider (bench/topology/containers/) sits above this package and
asks it for the server image a run uses; nothing here imports bench.topology. The Docker engine
client and the labels live here too (``engine.py``), since both packages need them and this is the
lower of the two.
"""

#: What `lbbench image build --only` can build (kept here, free of the docker SDK, for the parser).
IMAGE_TARGETS = ("server", "python-base", "loadgen")
