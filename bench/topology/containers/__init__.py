"""``--provider docker``: a run's server containers on 127.0.0.1, their faults, and their teardown.

Everything here talks to the engine through the docker SDK and testcontainers; containers carry the
``io.lbbench.*`` labels so a run's containers can be found (and removed) by run id. The engine client,
the labels and the server image come from the images package (bench/images/), one layer down.
"""

#: How the harness reaches the servers (``--docker-network``); both keep every port on 127.0.0.1.
#: Kept here, free of the docker SDK, for the option declarations in bench/topology/base.py.
NETWORK_MODES = {
    "host": "containers share the host's network stack; each server listens on its own 127.0.0.1 port "
    "(no NAT, no proxy)",
    "bridge": "containers on a network the run creates; each server's port is published on 127.0.0.1 "
    "(iptables DNAT, or docker-proxy when dockerd runs with its default userland proxy)",
}
DEFAULT_NETWORK_MODE = "host"
