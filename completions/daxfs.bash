#!/bin/bash

__daxfs_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__daxfs_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__daxfs_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__daxfs_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_daxfs() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __daxfs_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    mkfs|info|fsck|devices|ls|stat|mkdir|touch|rm|rmdir|mv|put|get|cat|write|read|truncate|fallocate|bmap|df|chattr|lsattr|swap-extents|io|help)
        # Offer subcommand argument completions
        "_daxfs_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'mkfs info fsck devices ls stat mkdir touch rm rmdir mv put get cat write read truncate fallocate bmap df chattr lsattr swap-extents io help' -- "${cur}"))
        ;;
    esac
}

_daxfs_mkfs() {
    repeating_flags=()
    non_repeating_flags=(--sparse --force -f -n --dry-run --quiet -q --json --version -h --help)
    repeating_options=()
    non_repeating_options=(--size -s --block-size -b --alloc-unit -a --label -l --uuid -u --log-size --checkpoint-size)
    __daxfs_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--size'|'-s')
        return
        ;;
    '--block-size'|'-b')
        return
        ;;
    '--alloc-unit'|'-a')
        return
        ;;
    '--label'|'-l')
        return
        ;;
    '--uuid'|'-u')
        return
        ;;
    '--log-size')
        return
        ;;
    '--checkpoint-size')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_info() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_fsck() {
    repeating_flags=()
    non_repeating_flags=(-n -p -a -y -f -v --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __daxfs_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_devices() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options 0
}

_daxfs_ls() {
    repeating_flags=()
    non_repeating_flags=(-l --json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options 2

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_stat() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options 2

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_mkdir() {
    repeating_flags=()
    non_repeating_flags=(-p --version -h --help)
    repeating_options=()
    non_repeating_options=(-m)
    __daxfs_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-m')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_touch() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options -1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_rm() {
    repeating_flags=()
    non_repeating_flags=(-r --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options -1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_rmdir() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options -1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_mv() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options 3

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_put() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options 3

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    2)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_get() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options 3

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    3)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_cat() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options -1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_write() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--offset -o --length -l --from)
    __daxfs_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--offset'|'-o')
        return
        ;;
    '--length'|'-l')
        return
        ;;
    '--from')
        __daxfs_add_completions -f
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_read() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--offset -o --length -l)
    __daxfs_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--offset'|'-o')
        return
        ;;
    '--length'|'-l')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_truncate() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options 3

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_fallocate() {
    repeating_flags=()
    non_repeating_flags=(-n --keep-size -p --punch-hole -z --zero-range -c --collapse-range -i --insert-range -d --dig-holes -x --posix -v --verbose --version -h --help)
    repeating_options=()
    non_repeating_options=(-o --offset -l --length)
    __daxfs_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '-o'|'--offset')
        return
        ;;
    '-l'|'--length')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_bmap() {
    repeating_flags=()
    non_repeating_flags=(-v --json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options 2

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_df() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options 1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_chattr() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--alloc-unit)
    __daxfs_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--alloc-unit')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_lsattr() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options -1

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_swap-extents() {
    repeating_flags=()
    non_repeating_flags=(--to-eof --dry-run --json -v --verbose --version -h --help)
    repeating_options=()
    non_repeating_options=(--offset1 --offset2 --length --if-unchanged --step-extents)
    __daxfs_offer_flags_options 3

    # Offer option value completions
    case "${prev}" in
    '--offset1')
        return
        ;;
    '--offset2')
        return
        ;;
    '--length')
        return
        ;;
    '--if-unchanged')
        return
        ;;
    '--step-extents')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_io() {
    repeating_flags=()
    non_repeating_flags=(--keep-going --version -h --help)
    repeating_options=(-c)
    non_repeating_options=(-f)
    __daxfs_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-c')
        return
        ;;
    '-f')
        __daxfs_add_completions -f
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __daxfs_add_completions -f
        return
        ;;
    esac
}

_daxfs_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __daxfs_offer_flags_options -1
}

complete -o filenames -F _daxfs daxfs
