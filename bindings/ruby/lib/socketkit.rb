# frozen_string_literal: true

# socketkit for Ruby: Python's socket semantics over the socketkit C library.
# The classes come from the SWIG-generated extension; this file adds the
# parts that are plain Ruby idiom (block forms, enumerators, predicates).
require "socketkit_ext"

module SocketKit
  # Raised for SK_EAI_* failures; #errno is the SK_EAI_* code and #errname
  # its name ("SK_EAI_NONAME"), like SystemCallError#errno.
  class ResolutionError
    attr_reader :errno, :errname
  end

  class Socket
    # Socket.open(family, type, proto) { |s| ... } closes the socket when the
    # block exits, exceptions included, and returns the block's value.
    def self.open(*args)
      sock = new(*args)
      return sock unless block_given?

      begin
        yield sock
      ensure
        sock.close
      end
    end

    # Ruby's name for socket(fileno=fd): the socket takes ownership of fd.
    def self.for_fd(fd)
      SocketKit.from_fd(fd)
    end

    # [a, b], a connected pair (AF_UNIX stream by default).
    def self.pair(*args)
      SocketKit.socketpair(*args)
    end

    # Python's create_connection: Happy Eyeballs over every address of host.
    # timeout nil is the default timeout (SocketKit.getdefaulttimeout), as
    # Python's without one; source: [host, port] binds first.
    def self.create_connection(host, port, timeout: nil, source: nil)
      source_host, source_port = source
      SocketKit.create_connection(host, port, timeout, source_host, source_port || 0)
    end

    # Python's create_server: a listening socket with SO_REUSEADDR; backlog
    # nil is the system's default.
    def self.create_server(host, port, family: SocketKit::AF_INET, backlog: nil,
                           reuse_port: false, dualstack: false)
      SocketKit.create_server(host, port, { family: family, backlog: backlog,
                                            reuse_port: reuse_port, dualstack: dualstack })
    end

    def closed?
      fileno.negative?
    end

    alias to_s inspect
  end

  class SocketFile
    include Enumerable

    def each_line
      return enum_for(:each_line) unless block_given?

      while (line = gets)
        yield line
      end
      self
    end
    alias each each_line

    def readlines
      each_line.to_a
    end

    def <<(data)
      write(data)
      self
    end

    def inspect
      "#<SocketKit::SocketFile>"
    end
  end
end
