# The scar client as an image:
#   docker build -t scar .
#   docker run --rm -it -v ~/.aws:/home/scar/.aws -v ~/.scar:/home/scar/.scar -v "$PWD:/work" scar init -f fdl.yaml
# Two stages: the first builds wheels for scar and its dependencies (with pip's build tools), the second
# installs only those wheels, on the same slim base, with no compiler, pip cache or build files left.
# bubblewrap is inside so that `scar run --local` works where the host lets containers create namespaces
# (docker run --security-opt seccomp=unconfined --cap-add SYS_ADMIN, or podman); elsewhere doctor says so.

ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY requirements.txt setup.py README.md LICENSE ./
COPY scar ./scar
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:${PYTHON_VERSION}-slim
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 --shell /usr/sbin/nologin scar
COPY --from=build /wheels /wheels
# DL3013: the versions are pinned by the wheels the build stage resolved; nothing comes from an index here.
# hadolint ignore=DL3013
RUN pip install --no-cache-dir --no-index --find-links /wheels scar \
    && rm -rf /wheels
# the user scar, by id (a name may not resolve on the host)
USER 1000:1000
WORKDIR /work
RUN mkdir -p /home/scar/.aws /home/scar/.scar
VOLUME ["/home/scar/.aws", "/home/scar/.scar"]
ENTRYPOINT ["scar"]
CMD ["--help"]
