#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# netns.sh - a private network for simulated ONVIF cameras, so WS-Discovery
# multicast is real but never leaves the machine.
#
#   netns.sh up NAME [LANS] [PREFIX]
#                              create it (root); LANS camera networks (1);
#                              0: NAME-gw alone, multicast on its loopback
#                              (cameras on 127.0.0.10+, as in `make demo`);
#                              PREFIX: length of each network's prefix
#                              (24; 22 or 23 only with one LAN, whose
#                              network is then 10.77.0.0/PREFIX)
#   netns.sh down NAME         remove everything NAME created (idempotent)
#
# Layout for NAME (namespaces NAME-gw and NAME-camK, K = 0 .. LANS-1):
#
#   NAME-gw                                  NAME-camK
#   lo up                                    lo up
#   NAME-gK  10.77.K.1/P   <== veth ==>  NAME-cK  (camera addresses are
#   route 224.0.0.0/4 dev NAME-g0            added by the test: 10.77.K.10+)
#                                            route 224.0.0.0/4 dev NAME-cK
#
# No namespace has a default route, so nothing reaches a real network.
# NAME must be short (interface names are at most 15 bytes): 1-10 of
# [a-z0-9]. `up` prints the facts as shell assignments:
#   GW_NS=... CAM_NS_0=... GW_IF_0=... CAM_IF_0=... NET_0=10.77.0 PREFIX_0=24
set -eu

die() { echo "netns.sh: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: $0 up|down NAME [LANS] [PREFIX]"
cmd=$1
name=$2
lans=${3:-1}
prefix=${4:-24}
case "$name" in
	*[!a-z0-9]* | "") die "NAME must be [a-z0-9]" ;;
esac
[ ${#name} -le 10 ] || die "NAME at most 10 characters"
case "$lans" in
	[0-4]) ;;
	*) die "LANS must be 0-4" ;;
esac
case "$prefix" in
	24) ;;
	22 | 23) [ "$lans" = 1 ] || die "PREFIX $prefix: one LAN only (they would overlap)" ;;
	*) die "PREFIX must be 22-24" ;;
esac
[ "$(id -u)" = 0 ] || die "must run as root"

down() {
	for ns in $(ip netns list | awk '{print $1}'); do
		case "$ns" in
			"$name-gw" | "$name"-cam[0-9]) ip netns del "$ns" ;;
		esac
	done
}

up() {
	gw="$name-gw"
	ip netns add "$gw"
	ip -n "$gw" link set lo up
	echo "GW_NS=$gw"
	k=0
	while [ $k -lt "$lans" ]; do
		cam="$name-cam$k"
		g="$name-g$k"
		c="$name-c$k"
		ip netns add "$cam"
		ip -n "$cam" link set lo up
		ip link add "$g" netns "$gw" type veth peer name "$c" netns "$cam"
		ip -n "$gw" addr add "10.77.$k.1/$prefix" dev "$g"
		ip -n "$gw" link set "$g" up
		ip -n "$cam" link set "$c" up
		ip -n "$cam" route add 224.0.0.0/4 dev "$c"
		echo "CAM_NS_$k=$cam GW_IF_$k=$g CAM_IF_$k=$c NET_$k=10.77.$k PREFIX_$k=$prefix"
		k=$((k + 1))
	done
	# Multicast with no interface chosen leaves by the first network.
	if [ "$lans" -gt 0 ]; then
		ip -n "$gw" route add 224.0.0.0/4 dev "$name-g0"
	else
		ip -n "$gw" route add 224.0.0.0/4 dev lo
	fi
}

case "$cmd" in
	up)
		down
		if ! up; then
			down
			die "setup failed; removed what was created"
		fi
		;;
	down) down ;;
	*) die "unknown command $cmd" ;;
esac
