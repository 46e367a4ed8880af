# Sourced by the bin/ commands: makes JAVA_HOME point at a JDK 25 or newer.
# Trino 483 and Spoolex are compiled for Java 25 (class files version 69); an older default
# `java` (Debian's 17, say) cannot build or run them, so look for a newer JDK before giving up.

spoolex_required_java=25

# Prints the feature version of the JDK at $1 (e.g. 25), or nothing if it is not a JDK.
spoolex_jdk_version() {
    [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
    "$1/bin/java" -XshowSettings:properties -version 2>&1 \
        | awk -F'= ' '/java.specification.version/ { split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit }'
}

spoolex_find_jdk() {
    local candidate version
    local candidates=()
    [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
    if command -v javac >/dev/null 2>&1; then
        candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
    fi
    # Temurin first, then any other JDK, newest names last so `sort -V` picks them up in order
    for candidate in $(ls -d /usr/lib/jvm/temurin-*-jdk* 2>/dev/null | sort -rV) $(ls -d /usr/lib/jvm/* 2>/dev/null | sort -rV); do
        candidates+=("$candidate")
    done
    for candidate in "${candidates[@]}"; do
        version=$(spoolex_jdk_version "$candidate")
        if [ -n "$version" ] && [ "$version" -ge "$spoolex_required_java" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! SPOOLEX_JAVA_HOME=$(spoolex_find_jdk); then
    echo "error: Spoolex needs a JDK ${spoolex_required_java} or newer (Trino 483 runs on Java ${spoolex_required_java}), e.g. Eclipse Temurin ${spoolex_required_java}." >&2
    echo "       Looked at JAVA_HOME (${JAVA_HOME:-unset}), the javac on PATH and /usr/lib/jvm/*." >&2
    echo "       Install one (https://adoptium.net/temurin/releases/?version=${spoolex_required_java}) and set JAVA_HOME to it." >&2
    exit 1
fi
export JAVA_HOME="$SPOOLEX_JAVA_HOME"
export PATH="$JAVA_HOME/bin:$PATH"
