/** The languages taskbot speaks: Chinese (the default) and English. */
export type Locale = 'zh' | 'en';
