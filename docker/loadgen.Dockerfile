# The load-generator image lbbench/loadgen:<version>, built by `lbbench image build`: the project and
# its runtime dependencies installed from a wheelhouse built on the host (bench/images/wheelhouse.py),
# so the build needs no network. BASE is any Python image with the host's X.Y in the official images'
# layout: the offline default lbbench/python:<X.Y>, or e.g. python:3.11-slim.
ARG BASE=lbbench/python:3.11
FROM ${BASE} AS install
LABEL io.lbbench.project=leaderboard-bench io.lbbench.role=loadgen-install
COPY wheelhouse/ /wheelhouse/
# Exec form: the offline base has no shell.
RUN ["python3", "-m", "pip", "install", "--no-index", "--find-links=/wheelhouse", "--no-cache-dir", \
     "--disable-pip-version-check", "--root-user-action=ignore", "leaderboard-bench"]

# A second stage, so that the wheels (70 MB) do not stay behind in a layer of the image.
FROM ${BASE}
ARG PYTHON_VERSION=3.11
COPY --from=install /usr/local/lib/python${PYTHON_VERSION}/site-packages/ /usr/local/lib/python${PYTHON_VERSION}/site-packages/
COPY --from=install /usr/local/bin/ /usr/local/bin/
# This machine's redis-benchmark with its libraries and loader (bench/images/bundled.py): the capacity
# probe of a run in containers. Empty where the machine has none.
COPY redis-benchmark/ /opt/lbbench/redis-benchmark/
ENV PYTHONUNBUFFERED=1
WORKDIR /lbbench
CMD ["lbbench", "--help"]
