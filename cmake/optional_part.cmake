# Optional parts of the build. The library needs only a C/C++ compiler and
# CMake; each other part has a cache setting SOCKETKIT_<PART>:
#   AUTO (default)  built when what it needs is installed; otherwise one
#                   configure message says what is missing and it is skipped
#   ON              required: configure fails, naming what is missing
#   OFF             left out
# A plain option() cannot tell "the default" from "asked for", which is the
# difference between skipping quietly-but-visibly and failing loudly.

# socketkit_part_setting(<PART> <doc>): declares SOCKETKIT_<PART>.
function(socketkit_part_setting part doc)
  set(SOCKETKIT_${part} AUTO CACHE STRING "${doc} (AUTO, ON or OFF)")
  set_property(CACHE SOCKETKIT_${part} PROPERTY STRINGS AUTO ON OFF)
endfunction()

# socketkit_part_wanted(<PART> <out-var>): FALSE when SOCKETKIT_<PART> is
# off, so its tools need not even be looked for.
function(socketkit_part_wanted part out)
  string(TOUPPER "${SOCKETKIT_${part}}" setting)
  if(setting STREQUAL "AUTO" OR SOCKETKIT_${part})
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

# socketkit_part_decide(<PART> <what> [MISSING <thing>...]): sets
# SK_BUILD_<PART> from the setting and what was not found.
function(socketkit_part_decide part what)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "" "MISSING")
  string(TOUPPER "${SOCKETKIT_${part}}" setting)
  set(build FALSE)
  if(NOT setting STREQUAL "AUTO" AND NOT SOCKETKIT_${part})
    # OFF, asked for: nothing to say.
  elseif(NOT arg_MISSING)
    set(build TRUE)
  else()
    list(JOIN arg_MISSING ", " missing)
    if(setting STREQUAL "AUTO")
      message(STATUS "socketkit: not building ${what}: missing ${missing} "
                     "(-DSOCKETKIT_${part}=ON to require it, =OFF to silence this)")
    else()
      message(FATAL_ERROR "SOCKETKIT_${part}=${SOCKETKIT_${part}} asks for ${what}, "
                          "but these are missing: ${missing}")
    endif()
  endif()
  set(SK_BUILD_${part} ${build} PARENT_SCOPE)
endfunction()
