"""Containers as the harness's own test hosts: the Docker engine, the locally built images, the provider.

Everything here talks to the engine through the docker SDK and testcontainers; containers carry the
``io.lbbench.*`` labels so a run's containers can be found (and removed) by run id.
"""

#: What `lbbench image build --only` can build (kept here, free of the docker SDK, for the parser).
IMAGE_TARGETS = ("server", "python-base", "loadgen")
