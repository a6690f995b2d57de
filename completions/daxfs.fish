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
        case 'devices'
            __daxfs_parse_subcommand 0 'json' 'version' 'h/help'
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
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_positional "daxfs" -eq 1' -fa 'devices' -d 'List device-DAX devices and whether each holds daxfs.'
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
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs devices" json' -l 'json' -d 'Print the list as JSON.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs devices" version' -l 'version' -d 'Show the version.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs devices" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'daxfs' -n '__daxfs_should_offer_completions_for_flags_or_options "daxfs help" version' -l 'version' -d 'Show the version.'
