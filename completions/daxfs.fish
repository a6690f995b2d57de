function __daxfs_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __daxfs_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __daxfs_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __daxfs_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __daxfs_parse_tokens -S
    set -l unparsed_tokens (__daxfs_tokens -pc)
    switch $unparsed_tokens[1]
    case 'daxfs'
        __daxfs_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'mkfs'
            __daxfs_parse_subcommand 1 's/size=' 'sparse' 'b/block-size=' 'a/alloc-unit=' 'l/label=' 'u/uuid=' 'log-size=' 'checkpoint-size=' 'f/force' 'n/dry-run' 'q/quiet' 'json' 'version' 'h/help'
        case 'info'
            __daxfs_parse_subcommand 1 'json' 'version' 'h/help'
        case 'fsck'
            __daxfs_parse_subcommand 1 'n' 'p' 'a' 'y' 'f' 'C=' 'v' 'json' 'version' 'h/help'
        case 'devices'
            __daxfs_parse_subcommand 0 'json' 'version' 'h/help'
        case 'ls'
            __daxfs_parse_subcommand 2 'l' 'json' 'version' 'h/help'
        case 'stat'
            __daxfs_parse_subcommand 2 'json' 'version' 'h/help'
        case 'mkdir'
            __daxfs_parse_subcommand -r 2 'p' 'm=' 'version' 'h/help'
        case 'touch'
            __daxfs_parse_subcommand -r 2 'version' 'h/help'
        case 'rm'
            __daxfs_parse_subcommand -r 2 'r' 'version' 'h/help'
        case 'rmdir'
            __daxfs_parse_subcommand -r 2 'version' 'h/help'
        case 'mv'
            __daxfs_parse_subcommand 3 'version' 'h/help'
        case 'put'
            __daxfs_parse_subcommand 3 'version' 'h/help'
        case 'get'
            __daxfs_parse_subcommand 3 'version' 'h/help'
        case 'cat'
            __daxfs_parse_subcommand -r 2 'version' 'h/help'
        case 'write'
            __daxfs_parse_subcommand 2 'o/offset=' 'l/length=' 'from=' 'version' 'h/help'
        case 'read'
            __daxfs_parse_subcommand 2 'o/offset=' 'l/length=' 'version' 'h/help'
        case 'truncate'
            __daxfs_parse_subcommand 3 'version' 'h/help'
        case 'fallocate'
            __daxfs_parse_subcommand 2 'o/offset=' 'l/length=' 'n/keep-size' 'p/punch-hole' 'z/zero-range' 'c/collapse-range' 'i/insert-range' 'd/dig-holes' 'x/posix' 'v/verbose' 'version' 'h/help'
        case 'bmap'
            __daxfs_parse_subcommand 2 'v' 'json' 'version' 'h/help'
        case 'df'
            __daxfs_parse_subcommand 1 'json' 'version' 'h/help'
        case 'chattr'
            __daxfs_parse_subcommand 2 'alloc-unit=' 'version' 'h/help'
        case 'lsattr'
            __daxfs_parse_subcommand -r 2 'json' 'version' 'h/help'
        case 'swap-extents'
            __daxfs_parse_subcommand 3 'offset1=' 'offset2=' 'length=' 'to-eof' 'dry-run' 'if-unchanged=' 'step-extents=' 'json' 'v/verbose' 'version' 'h/help'
        case 'io'
            __daxfs_parse_subcommand 1 'c=+' 'f=' 'keep-going' 'version' 'h/help'
        case 'help'
            __daxfs_parse_subcommand -r 1 'version'
        end
    end
end

function __daxfs_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __daxfs_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __daxfs_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __daxfs_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__daxfs_tokens -p)
    if test -z "$(__daxfs_tokens -t)"
        set -l index (count (__daxfs_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'daxfs' -f
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'mkfs' -d 'Format a region with daxfs.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'info' -d 'Show geometry, features, usage, log and checkpoint state of a region.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'fsck' -d 'Check a region, and repair it.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'devices' -d 'List device-DAX devices and whether each holds daxfs.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'ls' -d 'List a directory.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'stat' -d 'Show the attributes of a file or directory.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'mkdir' -d 'Create directories.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'touch' -d 'Create empty files, or set the times of existing ones to now.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'rm' -d 'Remove files, or with -r directory trees.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'rmdir' -d 'Remove empty directories.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'mv' -d 'Rename or move a file or directory, atomically.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'put' -d 'Copy a host file (or standard input) into daxfs.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'get' -d 'Copy a daxfs file out to a host file (or standard output).'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'cat' -d 'Print daxfs files to standard output.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'write' -d 'Write bytes at an offset of a file.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'read' -d 'Print bytes at an offset of a file, raw, to standard output.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'truncate' -d 'Set the size of a file.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'fallocate' -d 'Preallocate, punch, zero, collapse or insert a range of a file, or dig holes.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'bmap' -d 'Show the extent map of a file, in the spirit of xfs_bmap -v.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'df' -d 'Show space usage and free-space fragmentation.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'chattr' -d 'Set the allocation unit of a file or directory.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'lsattr' -d 'Show the allocation unit of files and directories.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'swap-extents' -d 'Exchange the extents of two file ranges atomically, without copying data.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'io' -d 'Run file commands under one mount (batch mode).'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs mkfs" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" s size' -l 'size' -s 's' -d 'Size of a new file region: bytes or K/M/G/T, KiB/MiB/GiB/TiB, KB/MB/GB/TB.' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" sparse' -l 'sparse' -d 'Create a new file region sparse instead of preallocating it.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" b block-size' -l 'block-size' -s 'b' -d 'Block size: 4K (default), 8K, 16K, 32K or 64K.' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" a alloc-unit' -l 'alloc-unit' -s 'a' -d 'Default allocation unit for files: 4K, 2M or 1G (default: the device alignment, or 4K for a file).' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" l label' -l 'label' -s 'l' -d 'Filesystem label, up to 64 bytes of UTF-8.' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" u uuid' -l 'uuid' -s 'u' -d 'Filesystem UUID (default: random).' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" log-size' -l 'log-size' -d 'Size of the metadata log (default: 1/128 of the region, 64K to 256M).' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" checkpoint-size' -l 'checkpoint-size' -d 'Size of each of the two checkpoint slots (default: 1/128 of the region, 64K to 2G).' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" f force' -l 'force' -s 'f' -d 'Overwrite an existing filesystem or signature, or resize an existing file to --size.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" dry-run n' -s 'n' -l 'dry-run' -d 'Check everything and print the layout, but write nothing.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" q quiet' -l 'quiet' -s 'q' -d 'Print nothing on success.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" json' -l 'json' -d 'Print the result as JSON.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkfs" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs info" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs info" json' -l 'json' -d 'Print the report as JSON.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs info" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs info" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs fsck" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fsck" n' -s 'n' -d 'Check only: map the region read-only and never write.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fsck" p' -s 'p' -d 'Preen: fix only what is safe without a human; exit 4 on anything else.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fsck" a' -s 'a' -d 'The same as -p.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fsck" y' -s 'y' -d 'Fix every problem.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fsck" f' -s 'f' -d 'Check fully even when the filesystem is marked clean.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fsck" C' -s 'C' -d 'Write progress lines to this file descriptor (0: a bar on the terminal, if it is one).' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fsck" v' -s 'v' -d 'Verbose: also say how each problem left alone would be fixed.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fsck" json' -l 'json' -d 'Print the report as JSON.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fsck" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fsck" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs devices" json' -l 'json' -d 'Print the list as JSON.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs devices" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs devices" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs ls" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs ls" l' -s 'l' -d 'Long listing: mode, links, owner, size, modification time (UTC), name.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs ls" json' -l 'json' -d 'Print the listing as JSON.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs ls" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs ls" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs stat" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs stat" json' -l 'json' -d 'Print the result as JSON.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs stat" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs stat" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs mkdir" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkdir" p' -s 'p' -d 'Create missing parents too; an existing directory is not an error.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkdir" m' -s 'm' -d 'Permission bits, in octal (default 755).' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkdir" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mkdir" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs touch" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs touch" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs touch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs rm" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs rm" r' -s 'r' -d 'Remove directories and everything in them.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs rm" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs rm" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs rmdir" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs rmdir" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs rmdir" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs mv" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mv" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs mv" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs put" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs put" -eq 2' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs put" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs put" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs get" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs get" -eq 2' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs get" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs get" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs cat" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs cat" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs cat" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs write" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs write" o offset' -l 'offset' -s 'o' -d 'Byte offset to write at (K/M/G/T suffixes).' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs write" l length' -l 'length' -s 'l' -d 'Bytes to write; the source must hold that many (default: all of it).' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs write" from' -l 'from' -d 'The host file to read the bytes from (default: standard input).' -rF
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs write" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs write" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs read" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs read" o offset' -l 'offset' -s 'o' -d 'Byte offset to read at.' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs read" l length' -l 'length' -s 'l' -d 'Bytes to read (fewer at the end of the file).' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs read" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs read" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs truncate" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs truncate" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs truncate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs fallocate" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fallocate" o offset' -s 'o' -l 'offset' -d 'Offset of the range in bytes (K/M/G/T suffixes).' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fallocate" l length' -s 'l' -l 'length' -d 'Length of the range in bytes (K/M/G/T suffixes); required except with --dig-holes.' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fallocate" keep-size n' -s 'n' -l 'keep-size' -d 'Do not change the file size.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fallocate" p punch-hole' -s 'p' -l 'punch-hole' -d 'Punch a hole: free the range (implies --keep-size).'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fallocate" z zero-range' -s 'z' -l 'zero-range' -d 'Zero the range.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fallocate" c collapse-range' -s 'c' -l 'collapse-range' -d 'Remove the range and shift the rest of the file down.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fallocate" i insert-range' -s 'i' -l 'insert-range' -d 'Insert a hole and shift the rest of the file up.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fallocate" d dig-holes' -s 'd' -l 'dig-holes' -d 'Free the allocation units of the range that are entirely zero.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fallocate" posix x' -s 'x' -l 'posix' -d 'Allocate the posix_fallocate(3) way (the same as the default mode).'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fallocate" v verbose' -s 'v' -l 'verbose' -d 'Say what was done.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fallocate" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs fallocate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs bmap" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs bmap" v' -s 'v' -d 'Verbose: byte ranges, region byte offsets and flags, as xfs_bmap -v.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs bmap" json' -l 'json' -d 'Print the map as JSON.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs bmap" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs bmap" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs df" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs df" json' -l 'json' -d 'Print the usage as JSON.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs df" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs df" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs chattr" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs chattr" alloc-unit' -l 'alloc-unit' -d 'The allocation unit: 4K, 2M or 1G.' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs chattr" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs chattr" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs lsattr" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs lsattr" json' -l 'json' -d 'Print the result as JSON.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs lsattr" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs lsattr" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs swap-extents" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs swap-extents" offset1' -l 'offset1' -d 'Offset of the range in FILE1 in bytes (K/M/G/T suffixes).' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs swap-extents" offset2' -l 'offset2' -d 'Offset of the range in FILE2 in bytes (K/M/G/T suffixes).' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs swap-extents" length' -l 'length' -d 'Length of both ranges in bytes (K/M/G/T suffixes).' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs swap-extents" to-eof' -l 'to-eof' -d 'Exchange from the offsets to the end of both files, and swap the sizes to match.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs swap-extents" dry-run' -l 'dry-run' -d 'Check every precondition and report what would move; change nothing.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs swap-extents" if-unchanged' -l 'if-unchanged' -d 'Swap only if FILE2\'s token (from \'daxfs stat --json\') is unchanged; else EBUSY.' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs swap-extents" step-extents' -l 'step-extents' -d 'Extents of each range one step moves (default: 1/128 of the transaction limit in bytes, 8192); smaller steps make more, shorter transactions; given, it also turns off the exchange of whole maps.' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs swap-extents" json' -l 'json' -d 'Print what was swapped as JSON.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs swap-extents" v verbose' -s 'v' -l 'verbose' -d 'Say what was swapped.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs swap-extents" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs swap-extents" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs io" -eq 1' -F
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs io"' -s 'c' -d 'A command to run; repeat for more.' -rfka ''
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs io" f' -s 'f' -d 'A script of commands, one a line, or - for standard input.' -rF
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs io" keep-going' -l 'keep-going' -d 'Run the remaining commands after a failure.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs io" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs io" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs help" version' -l 'version' -d 'Show the version.'
