# Sourced by the VM harnesses (bash): copies kernel modules out of a tree unpacked by
# fetch-kernel.sh into an initramfs, decompressed, each after the modules its depends= names.
# The guest has no depmod and no modules.dep, so the order written here is the load order.
#
#   modules_index KERNEL_TREE      indexes every module of the tree (once)
#   modules_add NAME DEST_DIR      DEST_DIR/NAME.ko and its dependencies; appends to modules_order
#
# Callers define die().

declare -A modules_path=() modules_done=()
modules_order=()

modules_index() {
    local release f name
    release=$(ls "$1/lib/modules")
    [ "$(echo "$release" | wc -w)" -eq 1 ] ||
        die "expected one release under $1/lib/modules, found: $release"
    while IFS= read -r f; do
        name=${f##*/}
        name=${name%%.ko*}
        modules_path[${name//-/_}]=$f
    done < <(find "$1/lib/modules/$release/kernel" -name '*.ko*')
}

# FILE: the module, uncompressed, on stdout.
modules_decompress() {
    case $1 in
        *.xz) xz -dc "$1" ;;
        *.zst) zstd -dcq "$1" ;;
        *.gz) gzip -dc "$1" ;;
        *) cat "$1" ;;
    esac
}

modules_add() {
    local name=${1//-/_} dest=$2 dep deps
    [ -z "${modules_done[$name]:-}" ] || return 0
    modules_done[$name]=1
    [ -n "${modules_path[$name]:-}" ] || die "module $name is not in the kernel tree"
    modules_decompress "${modules_path[$name]}" >"$dest/$name.ko"
    deps=$(tr '\0' '\n' <"$dest/$name.ko" | sed -n 's/^depends=//p')
    for dep in ${deps//,/ }; do modules_add "$dep" "$dest"; done
    modules_order+=("$name")
}
