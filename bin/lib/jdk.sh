# shellcheck shell=bash
# Sourced by the bin/ commands: makes JAVA_HOME point at a JDK 25 or newer (see find-jdk), or stops.
if ! SPOOLEX_JAVA_HOME=$("$(dirname "${BASH_SOURCE[0]}")/find-jdk"); then
    exit 1
fi
export JAVA_HOME="$SPOOLEX_JAVA_HOME"
export PATH="$JAVA_HOME/bin:$PATH"
