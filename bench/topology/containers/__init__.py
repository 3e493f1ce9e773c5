"""Containers as the harness's own test hosts: the Docker engine, the locally built images, the provider.

Everything here talks to the engine through the docker SDK and testcontainers; containers carry the
``io.lbbench.*`` labels so a run's containers can be found (and removed) by run id.
"""
