"""Vendor twins: SSH servers that speak Huawei VRP (V5 and V8), H3C Comware, Ruijie RGOS and
Cisco IOS to a Netmiko client as the real devices do, over a lab node's real data plane.

The rollout had only ever talked to FRR's vtysh driven as `cisco_ios`; the twins let the
same rollout meet each vendor's prompts, paging and save dialogues, error texts and output
formats, with every line checked by the platform grammar (`network.grammar`) and applied to
the node's kernel and FRR. `config` keeps a twin's configuration, `profiles` the platforms'
presentation (as data), `dataplane` what a line does underneath, `device` the twin and its
CLI sessions, `server` the SSH side.
"""
