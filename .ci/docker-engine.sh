# Sourced by .ci/run: make a Docker engine answer for the docker-marked tests, and stop what we started.
#
# An engine that already answers is used as it is. Otherwise, as root with apt, install Debian's
# docker.io (and docker-compose v1 for the compose test), start dockerd with published ports bound
# to 127.0.0.1 (overlay2 first, vfs where overlay2 cannot mount), and wait for it. Where no engine
# can be had, the docker tests skip with that reason; once one answers, LBBENCH_REQUIRE_DOCKER=1
# makes a docker test that cannot reach it fail instead of skipping.

DOCKERD_PID=""
DOCKERD_LOG="${TMPDIR:-/tmp}/lbbench-ci-dockerd.log"

docker_answers() { timeout 10 docker info >/dev/null 2>&1; }

start_docker_engine() {
    if command -v docker >/dev/null && docker_answers; then
        echo "ci: using the Docker engine that already answers"
    elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null; then
            echo "ci: installing docker.io and docker-compose from Debian"
            if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
                    apt-get install -y -qq docker.io docker-compose >/dev/null; }; then
                echo "ci: could not install docker.io; docker tests will skip"
                return 0
            fi
        fi
        local driver
        for driver in overlay2 vfs; do
            echo "ci: starting dockerd (storage driver $driver, published ports on 127.0.0.1)"
            dockerd --ip=127.0.0.1 --storage-driver="$driver" >"$DOCKERD_LOG" 2>&1 &
            DOCKERD_PID=$!
            for _ in $(seq 1 60); do
                docker_answers && break
                kill -0 "$DOCKERD_PID" 2>/dev/null || break
                sleep 0.5
            done
            docker_answers && break
            echo "ci: dockerd with $driver did not come up: $(tail -n 1 "$DOCKERD_LOG")"
            stop_docker_engine
        done
    fi
    if command -v docker >/dev/null && docker_answers; then
        export LBBENCH_REQUIRE_DOCKER=1
        docker version --format 'ci: Docker engine {{.Server.Version}}'
    else
        echo "ci: no Docker engine can be had here; docker tests will skip with that reason"
    fi
}

stop_docker_engine() {
    if [ -n "$DOCKERD_PID" ]; then
        kill "$DOCKERD_PID" 2>/dev/null || true
        wait "$DOCKERD_PID" 2>/dev/null || true
        DOCKERD_PID=""
    fi
}
