#!/usr/bin/env bash
# bench/tok_corpus.sh DIR - builds the tokenizer benchmark's text from
# Debian's documentation and dictionary packages (installing them when
# missing): DIR/train.txt (100 MB: GCIDE, WordNet glosses, Linux kernel,
# Python, Vim and Perl documentation) and DIR/heldout.txt (FOLDOC, the Jargon
# File and PostgreSQL's documentation, none of which is in train.txt).
# Markup is stripped roughly (tags removed); the text stays real prose and
# code. Already built files are kept.
set -eu
dir=${1:?usage: tok_corpus.sh DIR}
mkdir -p "$dir"
[ -s "$dir/train.txt" ] && [ -s "$dir/heldout.txt" ] && exit 0
pkgs="dict-gcide wordnet-base linux-doc-6.1 python3.11-doc vim-runtime perl-doc dict-foldoc dict-jargon postgresql-doc-15"
missing=""
for p in $pkgs; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"; done
if [ -n "$missing" ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
strip_tags() { sed -e 's/<[^>]*>//g' -e 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&amp;/\&/g'; }
{
    zcat /usr/share/dictd/gcide.dict.dz | strip_tags
    cat /usr/share/wordnet/data.noun /usr/share/wordnet/data.verb /usr/share/wordnet/data.adj /usr/share/wordnet/data.adv \
        | grep -v '^  ' | sed 's/^.*| //'
    find /usr/share/doc/linux-doc-6.1/Documentation -name '*.rst.gz' | sort | xargs zcat
    find /usr/share/doc/python3.11/html/_sources -name '*.txt' | sort | xargs cat
    find /usr/share/vim/vim90/doc -name '*.txt' | sort | xargs cat
    find /usr/share/perl/5.36/pod/ -name '*.pod' | sort | xargs cat
} | head -c 100000000 > "$dir/train.txt.tmp"
mv "$dir/train.txt.tmp" "$dir/train.txt"
{
    zcat /usr/share/dictd/foldoc.dict.dz /usr/share/dictd/jargon.dict.dz
    find /usr/share/doc/postgresql-doc-15/html -name '*.html' | sort | xargs cat | strip_tags | grep -v '^\s*$'
} | head -c 10000000 > "$dir/heldout.txt.tmp"
mv "$dir/heldout.txt.tmp" "$dir/heldout.txt"
