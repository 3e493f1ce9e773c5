# The offline Python base image lbbench/python:<X.Y>, built by `lbbench image build`: the host's own
# Python relocated to /usr/local (the layout of the official python images), its standard library
# without tests/IDLE/tkinter, pip, and the shared libraries `ldd` lists for the interpreter, its
# extension modules and the wheels' extension modules. No shell: RUN steps use the exec form. The
# build context (rootfs/) is staged by bench/images/pythonbase.py.
FROM scratch
COPY rootfs/ /
# No LANG: the image has no locale files, valkey-server (the loadgen's local provider) refuses a
# locale it cannot load, and Python runs in UTF-8 mode under the C locale anyway (PEP 540).
ENV PATH=/usr/local/bin LD_LIBRARY_PATH=/usr/local/lib HOME=/root
# The host's bytecode caches were left out; compiling here gives every container warm imports.
RUN ["python3", "-m", "compileall", "-q", "/usr/local/lib"]
CMD ["python3"]
