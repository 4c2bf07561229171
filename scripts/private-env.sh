# Sourced by the demo and the podman benchmark: the configuration files of a private system bus
# and of podman on a fixture store. Defines functions only.

# write_bus_conf FILE SOCKET: a system-type bus listening on SOCKET where every user may connect
# and call, and only root may own names (like the real system bus).
write_bus_conf() {
  cat >"$1" <<CONF
<busconfig><type>system</type><listen>unix:path=$2</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow send_destination="*" eavesdrop="true"/>
<allow eavesdrop="true"/><deny own="*"/></policy>
<policy user="root"><allow own="*"/></policy></busconfig>
CONF
}

# write_podman_conf DIR STORE RUNROOT: DIR/containers.conf with this machine's podman facts
# (runc, cgroupfs, no network, ulimits a container without CAP_SYS_RESOURCE can have) and
# DIR/storage.conf (overlay on STORE with composefs, RUNROOT); use them with CONTAINERS_CONF and
# CONTAINERS_STORAGE_CONF.
write_podman_conf() {
  cat >"$1/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
CONF
  cat >"$1/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$2"
runroot = "$3"
[storage.options.overlay]
use_composefs = "true"
CONF
}
