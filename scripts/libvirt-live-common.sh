# Sourced by the scripts that run a libvirt daemon of their own prefix
# and check it (scripts/libvirt-upstream-live, scripts/libvirt-v2-live).  The caller sets $prefix
# (what our_pid accepts as ours), $live (serial logs), $fwdir (test
# descriptors) and the array virsh (the client command line).

log() { printf '== [%s] %s\n' "$(date +%T)" "$*"; }

# our_pid PIDFILE: the PID in it, if that process runs a binary of the prefix
our_pid() {
    local pid
    [ -f "$1" ] || return 1
    pid=$(cat "$1")
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    case $(readlink "/proc/$pid/exe" 2>/dev/null) in
    "$prefix"/*) echo "$pid" ;;
    *) return 1 ;;
    esac
}

# stop_pid PID: TERM, up to 10 s, then KILL
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 50); do
        [ -d "/proc/$pid" ] || return 0
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
}

npass=0
nfail=0
results=()

# check NAME 0|1 DETAIL: record and print a result
check() {
    local name=$1 ok=$2 detail=$3
    if [ "$ok" = 1 ]; then
        npass=$((npass + 1))
        results+=("PASS  $name: $detail")
    else
        nfail=$((nfail + 1))
        results+=("FAIL  $name: $detail")
    fi
    echo "   ${results[-1]}"
}

# has TEXT NEEDLE
has() { grep -qF -- "$2" <<< "$1"; }

# domain_xml NAME ARCH MACHINE OS-ATTRS OS-CHILDREN [DEVICES]: a small TCG
# guest with a serial log
domain_xml() {
    cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os$4>
    <type arch='$2' machine='$3'>hvm</type>
$5
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
  </features>
  <devices>
${6:-}
    <serial type='file'>
      <source path='$live/$1.serial'/>
    </serial>
    <console type='file'>
      <source path='$live/$1.serial'/>
    </console>
  </devices>
</domain>
EOF
}

# os_of: the <os> element and SMM of a domain XML on stdin
os_of() { sed -n '/<os/,/<\/os>/p; /<smm/p'; }

# boots NAME PATTERN: start NAME, wait (up to 120 s) for PATTERN on its serial
boots() {
    local i
    rm -f "$live/$1.serial"
    "${virsh[@]}" start "$1" >/dev/null || return 1
    for i in $(seq 240); do
        if [ -f "$live/$1.serial" ] && tr -d '\033' < "$live/$1.serial" | grep -q "$2"; then
            return 0
        fi
        sleep 0.5
    done
    return 1
}

# descriptor FILE ARCH MACHINE-GLOB DEVICE-MAPPING [FEATURES]: a test
# firmware descriptor in $fwdir
descriptor() {
    cat > "$fwdir/$1" <<EOF
{
    "description": "fwsel live test descriptor",
    "interface-types": [ "uefi" ],
    "mapping": $4,
    "targets": [ { "architecture": "$2", "machines": [ "$3" ] } ],
    "features": [ ${5:-\"acpi-s3\"} ],
    "tags": []
}
EOF
}
