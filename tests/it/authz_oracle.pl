#!/usr/bin/perl
# Persistent authz oracle for rolesync's differential test: Subversion's own
# libsvn_repos, through the Perl bindings (Debian package libsvn-perl).
#
# Requests, one per line on stdin:
#   LOAD <authz-file> [<groups-file>]   starts a batch
#   Q <user> <repository> <path> [R]    a query of the batch (R: recursive,
#                                       `svnauthz accessof -R`)
#   END                                 runs the batch
#   QUIT
# For each batch the reply is 1 + (number of queries) lines on stdout:
#   "OK" | "INVALID <message>" | "CRASH <wait status>", then per query
#   "rw" | "r" | "no" | "SKIP" (file not valid) | "ERROR <message>".
# Arguments: "-" is "not given" (anonymous user, no repository, no path =
# "anywhere"); "=" is the empty string; anything else is %XX-encoded bytes.
# Answers are those of `svnauthz accessof`: the write check first, then the
# read check.
#
# Each batch runs in a forked child, so every file is parsed by a process
# whose heap is as fresh as a new `svnauthz` process: libsvn_repos 1.14.2
# can misparse an empty option name ("= r") when its heap holds leftovers
# of earlier work, and a group cycle it does not detect overflows the stack
# (SIGSEGV); both stay inside the child.
use strict;
use warnings;
use POSIX ();
use SVN::Core;
use SVN::Repos;

$| = 1;

sub arg {
    my ($s) = @_;
    return undef if $s eq '-';
    return '' if $s eq '=';
    $s =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/ge;
    return $s;
}

sub one_line {
    my ($s) = @_;
    $s =~ s/\s+/ /g;
    return $s;
}

sub child {
    my ($load, $queries, $out) = @_;
    my @f = split / /, $load;
    my $groups = defined $f[2] ? arg($f[2]) : undef;
    my $authz = eval { SVN::Repos::authz_read2(arg($f[1]), $groups, 1) };
    if ($@ || !$authz) {
        print $out "INVALID " . one_line("$@") . "\n";
        print $out "SKIP\n" for @$queries;
        return;
    }
    print $out "OK\n";
    for my $q (@$queries) {
        my @a = split / /, $q;
        my ($user, $repos, $path) = (arg($a[1]), arg($a[2]), arg($a[3]));
        # svn_authz_read 1, svn_authz_write 2, svn_authz_recursive 4
        my $rec = (defined $a[4] && $a[4] eq 'R') ? 4 : 0;
        my $answer = eval {
            return 'rw' if SVN::Repos::authz_check_access($authz, $repos, $path, $user, 2 | $rec);
            return SVN::Repos::authz_check_access($authz, $repos, $path, $user, 1 | $rec) ? 'r' : 'no';
        };
        print $out ($@ ? "ERROR " . one_line("$@") : $answer), "\n";
    }
}

sub run_batch {
    my ($load, $queries) = @_;
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        close $r;
        child($load, $queries, $w);
        close $w;
        POSIX::_exit(0);
    }
    close $w;
    my @lines = <$r>;
    close $r;
    waitpid($pid, 0);
    my $status = $?;
    if (!@lines || $status != 0) {
        print "CRASH $status\n";
        print "SKIP\n" for @$queries;
        return;
    }
    print @lines;
}

my ($load, @queries);
while (my $line = <STDIN>) {
    chomp $line;
    if ($line =~ /^LOAD /) {
        $load = $line;
        @queries = ();
    } elsif ($line =~ /^Q /) {
        push @queries, $line;
    } elsif ($line eq 'END') {
        if (defined $load) {
            run_batch($load, \@queries);
        } else {
            print "ERROR no LOAD\n";
        }
        undef $load;
        @queries = ();
    } elsif ($line eq 'QUIT') {
        last;
    }
}
