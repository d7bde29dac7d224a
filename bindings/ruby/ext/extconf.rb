# Builds socketkit_ext from socketkit.i with SWIG. Options:
#   --with-socketkit-dir=PREFIX (or --with-socketkit-include/-lib)
require "mkmf"

root = File.expand_path("../..", __dir__)
_, lib = dir_config("socketkit")

abort "swig is needed to build socketkit" unless find_executable("swig")
abort "socketkit.h not found (use --with-socketkit-dir)" unless find_header("socketkit.h")
abort "libsocketkit not found (use --with-socketkit-dir)" unless have_library("socketkit", "sk_version")

# dir_config put the socketkit include directory into $CPPFLAGS.
incflags = "#{$CPPFLAGS} #{$INCFLAGS}".scan(/-I\s*(\S+)/).flatten
                                     .reject { |d| d.include?("$(") }.map { |d| "-I#{d}" }
wrapper = File.join(Dir.pwd, "socketkit_ruby_wrap.c")
ok = system("swig", "-ruby", "-module", "SocketKit", "-initname", "socketkit_ext",
            "-I#{root}", *incflags, "-o", wrapper, File.join(root, "socketkit.i"))
abort "swig failed" unless ok

$INCFLAGS << " -I#{root}"
$CFLAGS << " -Wno-unused-parameter"
$LDFLAGS << " -Wl,-rpath,#{lib}" if lib
$srcs = ["socketkit_ruby_wrap.c"]
create_makefile("socketkit_ext")
