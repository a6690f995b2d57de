#compdef daxfs

__daxfs_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__daxfs_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __daxfs_complete "${completions[@]:0:-1}"
    fi
}

__daxfs_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_daxfs() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'mkfs:Format a region with daxfs.'
            'info:Show geometry, features, usage, log and checkpoint state of a region.'
            'fsck:Check a region, and repair it.'
            'devices:List device-DAX devices and whether each holds daxfs.'
            'ls:List a directory.'
            'stat:Show the attributes of a file or directory.'
            'mkdir:Create directories.'
            'touch:Create empty files, or set the times of existing ones to now.'
            'rm:Remove files, or with -r directory trees.'
            'rmdir:Remove empty directories.'
            'mv:Rename or move a file or directory, atomically.'
            'put:Copy a host file (or standard input) into daxfs.'
            'get:Copy a daxfs file out to a host file (or standard output).'
            'cat:Print daxfs files to standard output.'
            'write:Write bytes at an offset of a file.'
            'read:Print bytes at an offset of a file, raw, to standard output.'
            'truncate:Set the size of a file.'
            'fallocate:Preallocate, punch, zero, collapse or insert a range of a file, or dig holes.'
            'bmap:Show the extent map of a file, in the spirit of xfs_bmap -v.'
            'df:Show space usage and free-space fragmentation.'
            'chattr:Set the allocation unit of a file or directory.'
            'lsattr:Show the allocation unit of files and directories.'
            'swap-extents:Exchange the extents of two file ranges atomically, without copying data.'
            'io:Run file commands under one mount (batch mode).'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        mkfs|info|fsck|devices|ls|stat|mkdir|touch|rm|rmdir|mv|put|get|cat|write|read|truncate|fallocate|bmap|df|chattr|lsattr|swap-extents|io|help)
            "_daxfs_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_daxfs_mkfs() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '(--size -s)'{--size,-s}'[Size of a new file region\: bytes or K/M/G/T, KiB/MiB/GiB/TiB, KB/MB/GB/TB.]:size:'
        '--sparse[Create a new file region sparse instead of preallocating it.]'
        '(--block-size -b)'{--block-size,-b}'[Block size\: 4K (default), 8K, 16K, 32K or 64K.]:size:'
        '(--alloc-unit -a)'{--alloc-unit,-a}'[Default allocation unit for files\: 4K, 2M or 1G (default\: the device alignment, or 4K for a file).]:unit:'
        '(--label -l)'{--label,-l}'[Filesystem label, up to 64 bytes of UTF-8.]:label:'
        '(--uuid -u)'{--uuid,-u}'[Filesystem UUID (default\: random).]:uuid:'
        '--log-size[Size of the metadata log (default\: 1/128 of the region, 64K to 256M).]:size:'
        '--checkpoint-size[Size of each of the two checkpoint slots (default\: 1/128 of the region, 64K to 2G).]:size:'
        '(--force -f)'{--force,-f}'[Overwrite an existing filesystem or signature, or resize an existing file to --size.]'
        '(-n --dry-run)'{-n,--dry-run}'[Check everything and print the layout, but write nothing.]'
        '(--quiet -q)'{--quiet,-q}'[Print nothing on success.]'
        '--json[Print the result as JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_info() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '--json[Print the report as JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_fsck() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '-n[Check only\: map the region read-only and never write.]'
        '-p[Preen\: fix only what is safe without a human; exit 4 on anything else.]'
        '-a[The same as -p.]'
        '-y[Fix every problem.]'
        '-f[Check fully even when the filesystem is marked clean.]'
        '-C[Write progress lines to this file descriptor (0\: a bar on the terminal, if it is one).]:fd:'
        '-v[Verbose\: also say how each problem left alone would be fixed.]'
        '--json[Print the report as JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_devices() {
    local -i ret=1
    local -ar arg_specs=(
        '--json[Print the list as JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_ls() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '-l[Long listing\: mode, links, owner, size, modification time (UTC), name.]'
        '--json[Print the listing as JSON.]'
        ':path:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_stat() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '--json[Print the result as JSON.]'
        ':path:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_mkdir() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '-p[Create missing parents too; an existing directory is not an error.]'
        '-m[Permission bits, in octal (default 755).]:mode:'
        '*:paths:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_touch() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '*:paths:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_rm() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '-r[Remove directories and everything in them.]'
        '*:paths:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_rmdir() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '*:paths:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_mv() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        ':source:'
        ':destination:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_put() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        ':source:_files'
        ':path:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_get() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        ':path:'
        ':destination:_files'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_cat() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '*:paths:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_write() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '(--offset -o)'{--offset,-o}'[Byte offset to write at (K/M/G/T suffixes).]:offset:'
        '(--length -l)'{--length,-l}'[Bytes to write; the source must hold that many (default\: all of it).]:length:'
        '--from[The host file to read the bytes from (default\: standard input).]:hostfile:_files'
        ':path:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_read() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '(--offset -o)'{--offset,-o}'[Byte offset to read at.]:offset:'
        '(--length -l)'{--length,-l}'[Bytes to read (fewer at the end of the file).]:length:'
        ':path:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_truncate() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        ':path:'
        ':size:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_fallocate() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        ':path:'
        '(-o --offset)'{-o,--offset}'[Offset of the range in bytes (K/M/G/T suffixes).]:offset:'
        '(-l --length)'{-l,--length}'[Length of the range in bytes (K/M/G/T suffixes); required except with --dig-holes.]:length:'
        '(-n --keep-size)'{-n,--keep-size}'[Do not change the file size.]'
        '(-p --punch-hole)'{-p,--punch-hole}'[Punch a hole\: free the range (implies --keep-size).]'
        '(-z --zero-range)'{-z,--zero-range}'[Zero the range.]'
        '(-c --collapse-range)'{-c,--collapse-range}'[Remove the range and shift the rest of the file down.]'
        '(-i --insert-range)'{-i,--insert-range}'[Insert a hole and shift the rest of the file up.]'
        '(-d --dig-holes)'{-d,--dig-holes}'[Free the allocation units of the range that are entirely zero.]'
        '(-x --posix)'{-x,--posix}'[Allocate the posix_fallocate(3) way (the same as the default mode).]'
        '(-v --verbose)'{-v,--verbose}'[Say what was done.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_bmap() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '-v[Verbose\: byte ranges, region byte offsets and flags, as xfs_bmap -v.]'
        '--json[Print the map as JSON.]'
        ':path:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_df() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '--json[Print the usage as JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_chattr() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        ':path:'
        '--alloc-unit[The allocation unit\: 4K, 2M or 1G.]:unit:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_lsattr() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '--json[Print the result as JSON.]'
        '*:paths:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_swap-extents() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        ':file1:'
        ':file2:'
        '--offset1[Offset of the range in FILE1 in bytes (K/M/G/T suffixes).]:offset1:'
        '--offset2[Offset of the range in FILE2 in bytes (K/M/G/T suffixes).]:offset2:'
        '--length[Length of both ranges in bytes (K/M/G/T suffixes).]:length:'
        '--to-eof[Exchange from the offsets to the end of both files, and swap the sizes to match.]'
        '--dry-run[Check every precondition and report what would move; change nothing.]'
        '--if-unchanged[Swap only if FILE2'\''s token (from '\''daxfs stat --json'\'') is unchanged; else EBUSY.]:token:'
        '--step-extents[Extents of each range one step moves (default\: 1/128 of the transaction limit in bytes, 8192); smaller steps make more, shorter transactions; given, it also turns off the exchange of whole maps.]:n:'
        '--json[Print what was swapped as JSON.]'
        '(-v --verbose)'{-v,--verbose}'[Say what was swapped.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_io() {
    local -i ret=1
    local -ar arg_specs=(
        ':region:_files'
        '*-c[A command to run; repeat for more.]:command:'
        '-f[A script of commands, one a line, or - for standard input.]:script:_files'
        '--keep-going[Run the remaining commands after a failure.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_daxfs_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
        '--version[Show the version.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _daxfs ]]; then
    _daxfs "${@}"
else
    compdef _daxfs daxfs
fi
